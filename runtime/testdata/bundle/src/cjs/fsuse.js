require('fs'); exports.main = () => ({})
