/* The XTS tweak masks of simulator/crypto/volume.py, compiled.
 *
 * AES-XTS (IEEE 1619) encrypts 16-byte lane j of sector s as
 *
 *     C = E_K1(P xor T) xor T,   T = t_s * x^j in GF(2^128),   t_s = E_K2(s)
 *
 * OpenSSL (through cryptography) does every AES operation: the t_s of a whole request in one
 * ECB call and E_K1 over the whole request in one more; numpy does the two XORs. This module
 * only turns the t_s into the masks T: masks(tweaks, out). It never sees K1 or K2.
 *
 * Why C: a MiB is 65,536 lanes, each mask one GF(2^128) doubling of the one before. numpy builds
 * them with shifted byte-window copies in ~220 us per MiB, which held the whole xts path near
 * 21% of raw AES-GCM throughput; this loop takes ~45 us. volume.py falls back to the numpy masks
 * when this extension was not built (setup.py marks it optional).
 *
 * Doubling: T * x = (T << 1) xor (0x87 if bit 127 of T was set), T a 128-bit little-endian
 * integer (the IEEE 1619 convention). Four sectors are doubled side by side so each dependency
 * chain hides behind the others. Measured on the 2-core VM: 1, 2 or 8 chains were slower, and so
 * was a loop over an array of chains (gcc keeps such an array in memory). Doing the XOR in the
 * same loop as the doubling (one pass instead of mask + two numpy XORs) was slower end to end on
 * memory outside the caches: the doubling then stalls the memory streams.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define SECTOR_SIZE 512
#define LANES (SECTOR_SIZE / 16)

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* Store the mask (lo, hi) of one lane at m (16 bytes, little-endian), then (lo, hi) *= x. */
#define NEXT(m, lo, hi)                                                 \
    do {                                                                \
        store64((m), (lo));                                             \
        store64((m) + 8, (hi));                                         \
        uint64_t carry_ = (hi) >> 63;                                   \
        (hi) = ((hi) << 1) | ((lo) >> 63);                              \
        (lo) = ((lo) << 1) ^ (0x87 & (0 - carry_));                     \
    } while (0)

static void mask_sectors(const unsigned char *tweaks, unsigned char *out, Py_ssize_t sectors)
{
    Py_ssize_t s = 0;
    for (; s + 4 <= sectors; s += 4) {
        const unsigned char *t = tweaks + 16 * s;
        uint64_t lo0 = load64(t), hi0 = load64(t + 8), lo1 = load64(t + 16), hi1 = load64(t + 24);
        uint64_t lo2 = load64(t + 32), hi2 = load64(t + 40), lo3 = load64(t + 48), hi3 = load64(t + 56);
        unsigned char *m = out + s * SECTOR_SIZE;
        for (int j = 0; j < LANES; j++) {
            NEXT(m + 16 * j, lo0, hi0);
            NEXT(m + SECTOR_SIZE + 16 * j, lo1, hi1);
            NEXT(m + 2 * SECTOR_SIZE + 16 * j, lo2, hi2);
            NEXT(m + 3 * SECTOR_SIZE + 16 * j, lo3, hi3);
        }
    }
    for (; s < sectors; s++) {
        const unsigned char *t = tweaks + 16 * s;
        uint64_t lo = load64(t), hi = load64(t + 8);
        for (int j = 0; j < LANES; j++)
            NEXT(out + s * SECTOR_SIZE + 16 * j, lo, hi);
    }
}

PyDoc_STRVAR(masks_doc,
"masks(tweaks, out)\n--\n\n"
"Write the XTS mask t_s * x^j of every 16-byte lane j of every sector s into out, in order:\n"
"tweaks holds t_s (16 bytes, little-endian) per sector, out 512 writable bytes per sector.");

static PyObject *masks(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer tweaks, out;
    if (!PyArg_ParseTuple(args, "y*w*:masks", &tweaks, &out))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t sectors = tweaks.len / 16;
    if (tweaks.len % 16)
        PyErr_SetString(PyExc_ValueError, "tweaks must be 16 bytes per sector");
    else if (out.len != sectors * SECTOR_SIZE)
        PyErr_SetString(PyExc_ValueError, "out must be 512 bytes per tweak");
    else {
        Py_BEGIN_ALLOW_THREADS
        mask_sectors(tweaks.buf, out.buf, sectors);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&tweaks);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"masks", masks, METH_VARARGS, masks_doc},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module)
{
    return PyModule_AddIntConstant(module, "SECTOR_SIZE", SECTOR_SIZE);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_xts",
    "XTS tweak masks of whole requests (see simulator/crypto/volume.py).",
    0, methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__xts(void)
{
    return PyModuleDef_Init(&module_def);
}
