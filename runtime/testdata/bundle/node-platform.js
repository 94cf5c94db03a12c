// fsuse.js
require("fs");
exports.main = () => ({});
