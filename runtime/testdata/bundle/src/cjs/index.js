const {greet} = require('./lib/greet'); exports.main = p => ({msg: greet(p.name)})
