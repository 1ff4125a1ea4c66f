require ["foreverypart", "mime", "replace"];
# replace every attachment with a note
foreverypart {
  if header :mime :matches :param "filename" "Content-Disposition" "*" {
    replace "The attachment was removed.";
  }
}
