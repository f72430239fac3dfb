// The one source of a precompiled-header holder target (verification/CMakeLists.txt):
// the holder builds the header once, and the test targets reuse it. Nothing to compile.
