require "vacation";

vacation :fcc "Sent" "away";
