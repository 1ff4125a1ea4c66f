redirect :list "tag:parents";
