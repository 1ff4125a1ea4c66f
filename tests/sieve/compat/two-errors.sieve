frobnicate;
keep;
frobnicate2;
