require "foreverypart";

break;
foreverypart :name "outer" {
  foreverypart {
    break :name "inner";
  }
}
foreverypart { discard; } break;
