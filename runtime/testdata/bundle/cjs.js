var __getOwnPropNames = Object.getOwnPropertyNames;
var __commonJS = (cb, mod) => function __require() {
  return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
};

// lib/greet.js
var require_greet = __commonJS({
  "lib/greet.js"(exports2) {
    exports2.greet = (n) => "hi " + n;
  }
});

// index.js
var { greet } = require_greet();
exports.main = (p) => ({ msg: greet(p.name) });
