require "replace";
replace :subject "Ersetzt: Grüße" :from "Filter <filter@example.org>" "Nothing to see.";
