require ["vacation", "fcc", "special-use"];

vacation :fcc "Sent" :specialuse "Sent" "away";
