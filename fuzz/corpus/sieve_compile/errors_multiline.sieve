require "reject";
reject text:
this text
never ends
