keep;

discard & stop;
