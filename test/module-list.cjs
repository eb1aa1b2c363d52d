/**
 * `node -r ./test/module-list.cjs …`: at exit, writes Node's own list of the modules it loaded
 * (process.moduleLoadList: its built-in modules and bindings) to ASSIGNABLE_MODULE_LIST.
 */
process.on('exit', () => require('node:fs').writeFileSync(process.env.ASSIGNABLE_MODULE_LIST, process.moduleLoadList.join('\n') + '\n'));
