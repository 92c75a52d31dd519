// The package's own typings import its TypeScript sources (CommonJS), which do not compile
// under this project's ES module settings. Dialtone only needs its side effect (it registers
// the SDK-type binding); the context it passes is typed structurally in shared/composition.
export {};
