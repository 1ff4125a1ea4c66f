if size :over 10X { keep; }
