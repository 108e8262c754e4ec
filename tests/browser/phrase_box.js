([phrase, occurrence]) => {
  const root = document.getElementById("reader-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = text.indexOf(phrase, at + 1);
  if (at < 0) return null;
  // The text node a position falls in; an end position prefers the node it ends.
  const find = (pos, isEnd) => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const begins = nodes[i][1];
      if (begins < pos || (!isEnd && begins === pos)) return [nodes[i][0], pos - begins];
    }
    return null;
  };
  const range = document.createRange();
  range.setStart(...find(at, false));
  range.setEnd(...find(at + phrase.length, true));
  range.startContainer.parentElement.scrollIntoView({ block: "center" });
  const rects = range.getClientRects();
  const first = rects[0];
  const last = rects[rects.length - 1];
  return {
    x1: first.left + 1,
    y1: first.top + first.height / 2,
    x2: last.right - 1,
    y2: last.top + last.height / 2,
  };
}
