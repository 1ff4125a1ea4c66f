require "extlists";
redirect :list "parents@example.org";
