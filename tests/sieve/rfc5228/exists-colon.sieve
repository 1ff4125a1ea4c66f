if exists "subject:" { discard; }
