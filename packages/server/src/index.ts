export { startNode, type CourierNode, type NodeOverrides } from './wiring/start-node.js';
export { parseOptions, optionsHelp, optionSpecs, envName, OptionError, type Options } from './config/options.js';
