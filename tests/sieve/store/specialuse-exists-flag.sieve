require "special-use";

if specialuse_exists "Junk" ["\\Junk", "\\Sp am"] {
	discard;
}
