require ["include", "variables"];
global "shared";
if string :is "${shared}" "from main" {
	set "shared" "changed by include";
}
if string :is "${local}" "" {
	set "global.seen" "main only?no";
}
