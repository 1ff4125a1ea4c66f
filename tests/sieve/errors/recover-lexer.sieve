if size :over 99999999999999999999G { keep; }
if size :over 10x { keep; }
keep @;
discard;
fileinto "never
ends;
