/* tp_flip2 — the second build of tp_flip (see ../tp_flip/plugin.c). */
#define FLIP 1
#include "../tp_flip/plugin.c"
