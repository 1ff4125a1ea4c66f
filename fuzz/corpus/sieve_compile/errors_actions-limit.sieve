require "fileinto";
# more than SIEVE_ACTIONS_MAX (64) actions
fileinto "f0"; fileinto "f1"; fileinto "f2"; fileinto "f3"; fileinto "f4"; fileinto "f5"; fileinto "f6"; fileinto "f7"; fileinto "f8"; fileinto "f9";
fileinto "f10"; fileinto "f11"; fileinto "f12"; fileinto "f13"; fileinto "f14"; fileinto "f15"; fileinto "f16"; fileinto "f17"; fileinto "f18"; fileinto "f19";
fileinto "f20"; fileinto "f21"; fileinto "f22"; fileinto "f23"; fileinto "f24"; fileinto "f25"; fileinto "f26"; fileinto "f27"; fileinto "f28"; fileinto "f29";
fileinto "f30"; fileinto "f31"; fileinto "f32"; fileinto "f33"; fileinto "f34"; fileinto "f35"; fileinto "f36"; fileinto "f37"; fileinto "f38"; fileinto "f39";
fileinto "f40"; fileinto "f41"; fileinto "f42"; fileinto "f43"; fileinto "f44"; fileinto "f45"; fileinto "f46"; fileinto "f47"; fileinto "f48"; fileinto "f49";
fileinto "f50"; fileinto "f51"; fileinto "f52"; fileinto "f53"; fileinto "f54"; fileinto "f55"; fileinto "f56"; fileinto "f57"; fileinto "f58"; fileinto "f59";
fileinto "f60"; fileinto "f61"; fileinto "f62"; fileinto "f63"; fileinto "f64"; fileinto "f65"; fileinto "f66"; fileinto "f67"; fileinto "f68"; fileinto "f69";
