require ["foreverypart", "mime", "fileinto"];
# file a message with an image once
foreverypart {
  if header :mime :type "Content-Type" "image" {
    fileinto "Pictures";
    break;
  }
}
