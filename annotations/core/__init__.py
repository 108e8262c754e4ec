"""What every capability stands on: role checks and blind review (permissions), checked
inputs (articles and sources), text, anchoring and highlights. Imports no capability."""
