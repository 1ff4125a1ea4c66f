require "variables";
set "a" text:
no end
