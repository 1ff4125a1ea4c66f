require "vacation";
vacation :addresses "bob@example.com" :from "bob@example.com" "I am away.";
