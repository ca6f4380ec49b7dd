let
  lib = { mapAttrs = f: s: builtins.mapAttrs f s; };
  xs = builtins.map (x: x * 2) [ 1 2 3 ];
  s = builtins.concatStringsSep "," (map toString xs);
  r = rec { a = 1; b = a + 1; c = if b > 1 then "yes" else "no"; };
  w = with r; c;
  i = builtins.foldl' (a: b: a + b) 0 xs;
in
{ inherit s w i; p = builtins.replaceStrings [ "a" ] [ "b" ] "banana"; q = r ? a; t = assert true; "x${s}y"; }
