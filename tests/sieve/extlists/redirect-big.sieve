require "extlists";
redirect :list "tag:big";
