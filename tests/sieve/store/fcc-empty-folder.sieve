require ["vacation", "fcc"];

vacation :fcc "" "away";
