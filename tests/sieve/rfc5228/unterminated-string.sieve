keep;
if header :is "subject" "open {
  keep;
}
