require "encoded-character";
if header :is "subject" "${unicode:d800}" { keep; }
