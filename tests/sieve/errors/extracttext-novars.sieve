require ["foreverypart", "extracttext"];
foreverypart {
  extracttext "text";
}
