require ["foreverypart", "variables", "extracttext"];

extracttext "text";
foreverypart {
  extracttext :first "x" "a";
  extracttext :lower :upper "b";
  extracttext "bad-name";
}
