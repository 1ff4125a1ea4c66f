require "duplicate";
if duplicate :seconds "10" { keep; }
