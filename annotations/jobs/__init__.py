"""Background work: sent by task name after commit (surviving a broker outage), taken
by one worker at a time, taken over when its worker dies, and reconciled when lost."""
