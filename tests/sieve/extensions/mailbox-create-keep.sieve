require "mailbox";
keep :create;
