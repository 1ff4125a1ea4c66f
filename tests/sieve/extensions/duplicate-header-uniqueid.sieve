require "duplicate";
if duplicate :header "x-a" :uniqueid "b" { keep; }
