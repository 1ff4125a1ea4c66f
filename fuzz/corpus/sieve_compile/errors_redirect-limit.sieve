# more than SIEVE_REDIRECT_MAX (4) redirects
redirect "a@example.net";
redirect "b@example.net";
redirect "c@example.net";
redirect "d@example.net";
redirect "e@example.net";
