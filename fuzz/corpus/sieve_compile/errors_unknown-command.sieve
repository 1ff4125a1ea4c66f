# an unknown command on line 3
keep;
frobnicate "x";
