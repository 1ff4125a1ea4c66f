keep;
@keep;
