import {greet} from './lib/greet.js'; export function main(p) { return {msg: greet(p.name)} }
