require "fileinto";
if header :contains "subject" "offer {
    fileinto "Junk";
}
frob;
