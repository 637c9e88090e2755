/* The XTS tweak-mask pass of simulator/crypto/volume.py, compiled.
 *
 * AES-XTS (IEEE 1619) encrypts 16-byte lane j of sector s as
 *
 *     C = E_K1(P xor T) xor T,   T = t_s * x^j in GF(2^128),   t_s = E_K2(s)
 *
 * OpenSSL (through cryptography) does every AES operation: the t_s of a whole request in one
 * ECB call, and E_K1 over the whole request in one more. What is left is XORing each lane with
 * its T, before and after E_K1, and that is all this module does: whiten(tweaks, src, dst)
 * writes src xor T into dst. It never sees K1 or K2. The masks are secret (they reveal t_s), so
 * the stack buffer that holds a block of them is wiped before the call returns.
 *
 * Why C: a MiB is 65,536 lanes, each mask one GF(2^128) doubling of the one before. The numpy
 * path builds them with shifted byte-window copies (~220 us per MiB) and XORs them in two more
 * passes, which held the whole xts path near 21% of raw AES-GCM throughput; this pass computes
 * and XORs in ~75 us per MiB (bench/ebs_bench.py prints both). volume.py falls back to numpy
 * when this extension was not built (setup.py marks it optional).
 *
 * Doubling: T * x = (T << 1) xor (0x87 if bit 127 of T was set), T a 128-bit little-endian
 * integer (the IEEE 1619 convention). The masks of BLOCK sectors go into an 8 KiB buffer that
 * stays in L1, four sectors doubled side by side so each dependency chain hides behind the
 * others; then one sequential XOR pass streams src and dst the way memcpy does. Measured on the
 * 2-core VM: computing and XORing in the same loop, or prefetching the next block while
 * doubling, was slower on memory outside the caches; 2 or 8 chains (or a loop over an array of
 * chains, which gcc keeps in memory) were slower than 4.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define SECTOR_SIZE 512
#define LANES (SECTOR_SIZE / 16)
#define WORDS (SECTOR_SIZE / 8)
#define BLOCK 16

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

/* Store the mask (lo, hi) of one lane at m, then (lo, hi) *= x for the next lane. */
#define NEXT(m, lo, hi)                                                 \
    do {                                                                \
        (m)[0] = (lo);                                                  \
        (m)[1] = (hi);                                                  \
        uint64_t carry_ = (hi) >> 63;                                   \
        (hi) = ((hi) << 1) | ((lo) >> 63);                              \
        (lo) = ((lo) << 1) ^ (0x87 & (0 - carry_));                     \
    } while (0)

/* src xor masks into dst, BLOCK sectors at a time (see the header). */
static void whiten_sectors(const unsigned char *tweaks, const unsigned char *src,
                           unsigned char *dst, Py_ssize_t sectors)
{
    uint64_t mask[BLOCK * WORDS];
    for (Py_ssize_t first = 0; first < sectors; first += BLOCK) {
        int count = sectors - first < BLOCK ? (int)(sectors - first) : BLOCK;
        const unsigned char *p = src + first * SECTOR_SIZE;
        unsigned char *q = dst + first * SECTOR_SIZE;
        int b = 0;
        for (; b + 4 <= count; b += 4) {
            const unsigned char *t = tweaks + 16 * (first + b);
            uint64_t lo0 = load64(t), hi0 = load64(t + 8), lo1 = load64(t + 16), hi1 = load64(t + 24);
            uint64_t lo2 = load64(t + 32), hi2 = load64(t + 40), lo3 = load64(t + 48), hi3 = load64(t + 56);
            uint64_t *m = mask + b * WORDS;
            for (int j = 0; j < LANES; j++) {
                NEXT(m + 2 * j, lo0, hi0);
                NEXT(m + WORDS + 2 * j, lo1, hi1);
                NEXT(m + 2 * WORDS + 2 * j, lo2, hi2);
                NEXT(m + 3 * WORDS + 2 * j, lo3, hi3);
            }
        }
        for (; b < count; b++) {
            const unsigned char *t = tweaks + 16 * (first + b);
            uint64_t lo = load64(t), hi = load64(t + 8);
            for (int j = 0; j < LANES; j++)
                NEXT(mask + b * WORDS + 2 * j, lo, hi);
        }
        for (int w = 0; w < count * WORDS; w++)
            store64(q + 8 * w, load64(p + 8 * w) ^ mask[w]);
    }
    volatile uint64_t *wipe = mask;  /* volatile: a plain memset of a dead buffer may be elided */
    for (int w = 0; w < BLOCK * WORDS; w++)
        wipe[w] = 0;
}

PyDoc_STRVAR(whiten_doc,
"whiten(tweaks, src, dst)\n--\n\n"
"Write src xor T into dst, T = tweaks[s] * x^j for lane j of sector s (src may be dst).\n"
"tweaks holds 16 bytes per 512-byte sector of src; dst is writable and as long as src.");

static PyObject *whiten(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer tweaks, src, dst;
    if (!PyArg_ParseTuple(args, "y*y*w*:whiten", &tweaks, &src, &dst))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t sectors = src.len / SECTOR_SIZE;
    if (src.len % SECTOR_SIZE)
        PyErr_SetString(PyExc_ValueError, "whiten works on whole 512-byte sectors");
    else if (dst.len != src.len)
        PyErr_SetString(PyExc_ValueError, "dst must be as long as src");
    else if (tweaks.len != 16 * sectors)
        PyErr_SetString(PyExc_ValueError, "tweaks must hold 16 bytes per sector");
    else {
        Py_BEGIN_ALLOW_THREADS
        whiten_sectors(tweaks.buf, src.buf, dst.buf, sectors);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&tweaks);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}

static PyMethodDef methods[] = {
    {"whiten", whiten, METH_VARARGS, whiten_doc},
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
    "XTS tweak masks XORed over whole requests (see simulator/crypto/volume.py).",
    0, methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__xts(void)
{
    return PyModuleDef_Init(&module_def);
}
