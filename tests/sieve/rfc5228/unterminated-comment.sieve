keep;
/* never closed
keep;
