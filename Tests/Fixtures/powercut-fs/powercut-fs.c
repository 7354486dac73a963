/*
 * powercut-fs: an in-memory FUSE file system whose power can be cut. It keeps two states of
 * everything: what a process sees now, and what a disk would still hold after a power loss.
 * Only fsync moves the first into the second:
 *
 *   - a file's data and size become durable when that file is fsynced (fsync or fdatasync);
 *   - a directory's entries (created, renamed, removed names) become durable when that
 *     directory is fsynced (--order=directory, the default: what POSIX promises, and what
 *     ext4 with fast_commit, XFS and btrfs give per inode), or when any file is fsynced
 *     (--order=journal: ext4 data=ordered without fast_commit, where an fsync commits the one
 *     journal transaction that holds every earlier metadata change, in order);
 *   - fdatasync makes only that file's data and size durable, never a name, in either order
 *     (ext4 commits its journal on an fdatasync that grew the file, but need not otherwise:
 *     the model takes the stricter reading);
 *   - with --torn-tails, at the cut a file that did not shrink since its last sync keeps a
 *     random part of what changed since: the bytes from the first one that differs from the
 *     synced data to the end of the file, cut at a random point (a prefix: the disk wrote some
 *     of the dirty pages back on its own). That is an appended tail, or records written over
 *     zeroed space a file keeps ahead of its data (the ledger journal does), so a reader sees
 *     torn records after the cut as it would on a real disk; without it, unsynced changes are
 *     always lost whole.
 *
 * Control, by looking names up in the root (so the caller knows it happened when stat returns):
 *   stat MOUNT/.powercut-cut   the power goes: everything reverts to its durable state, and
 *                              every later call fails with EIO until the power comes back;
 *   stat MOUNT/.powercut-on    the power comes back ("reboot"): calls work again.
 *   (both answer ENOENT.)
 *
 * Simplifications (docs/daemon.md, "What a power cut can cost"): apart from the changed tail
 * above, a write is never torn (all in or all out at the next fsync); what a cut keeps of a
 * tail is a prefix, never pages out of order; mode, owner and times are not modelled as
 * durable; no hard links, symlinks or special files; the "disk" is this process's memory.
 *
 * Build: gcc -O2 -Wall -o powercut-fs powercut-fs.c $(pkg-config --cflags --libs fuse3)
 * Run:   powercut-fs [--order=directory|journal] [--torn-tails] MOUNTPOINT   (foreground, single-threaded)
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct node;
struct entry { char *name; struct node *node; struct entry *next; };

struct node {
    int is_dir;
    mode_t mode;
    char *data; size_t size;          /* now */
    char *ddata; size_t dsize;        /* durable */
    struct entry *entries;            /* now (directories) */
    struct entry *dentries;           /* durable */
    struct timespec mtime;
    struct node *all_next;            /* every node ever made, for the cut */
};

static struct node *root;
static struct node *all_nodes;
static int journal_order;
static int torn_tails;
static int powered_off;
static unsigned long cuts;

static struct node *new_node(int is_dir, mode_t mode) {
    struct node *n = calloc(1, sizeof *n);
    n->is_dir = is_dir;
    n->mode = mode;
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    n->all_next = all_nodes;
    all_nodes = n;
    return n;
}

static void free_entries(struct entry *e) {
    while (e) { struct entry *next = e->next; free(e->name); free(e); e = next; }
}

static struct entry *copy_entries(const struct entry *e) {
    struct entry *head = NULL, **tail = &head;
    for (; e; e = e->next) {
        struct entry *c = calloc(1, sizeof *c);
        c->name = strdup(e->name);
        c->node = e->node;
        *tail = c;
        tail = &c->next;
    }
    return head;
}

static char *copy_bytes(const char *data, size_t size) {
    char *c = malloc(size ? size : 1);
    if (size) memcpy(c, data, size);
    return c;
}

static void sync_data(struct node *n) {
    free(n->ddata);
    n->ddata = copy_bytes(n->data, n->size);
    n->dsize = n->size;
}

static void sync_entries(struct node *n) {
    free_entries(n->dentries);
    n->dentries = copy_entries(n->entries);
}

/* After an fsync: in journal order every directory's entries are committed too. */
static void commit_metadata(struct node *synced_dir) {
    if (journal_order) {
        for (struct node *n = all_nodes; n; n = n->all_next)
            if (n->is_dir) sync_entries(n);
    } else if (synced_dir) {
        sync_entries(synced_dir);
    }
}

static void cut_power(void) {
    for (struct node *n = all_nodes; n; n = n->all_next) {
        if (n->is_dir) {
            free_entries(n->entries);
            n->entries = copy_entries(n->dentries);
        } else {
            if (torn_tails && n->size >= n->dsize) {   /* a torn tail */
                size_t first = 0;
                while (first < n->dsize && n->data[first] == n->ddata[first]) first++;
                size_t end = first + (size_t)random() % (n->size - first + 1);
                if (end > n->dsize) {
                    n->ddata = realloc(n->ddata, end);
                    n->dsize = end;
                }
                memcpy(n->ddata + first, n->data + first, end - first);
            }
            free(n->data);
            n->data = copy_bytes(n->ddata, n->dsize);
            n->size = n->dsize;
        }
    }
    powered_off = 1;
    cuts++;
}

static struct entry **find_entry(struct node *dir, const char *name, size_t len) {
    for (struct entry **e = &dir->entries; *e; e = &(*e)->next)
        if (strlen((*e)->name) == len && memcmp((*e)->name, name, len) == 0) return e;
    return NULL;
}

static struct node *lookup(const char *path) {
    struct node *n = root;
    const char *p = path;
    while (*p == '/') p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!n->is_dir) return NULL;
        struct entry **e = find_entry(n, p, len);
        if (!e) return NULL;
        n = (*e)->node;
        p += len;
        while (*p == '/') p++;
    }
    return n;
}

/* The parent directory of `path` and the last component. */
static struct node *parent_of(const char *path, const char **name) {
    const char *slash = strrchr(path, '/');
    *name = slash + 1;
    char *dir = strndup(path, (size_t)(slash - path));
    struct node *n = lookup(dir[0] ? dir : "/");
    free(dir);
    return n && n->is_dir ? n : NULL;
}

static void add_entry(struct node *dir, const char *name, struct node *n) {
    struct entry *e = calloc(1, sizeof *e);
    e->name = strdup(name);
    e->node = n;
    e->next = dir->entries;
    dir->entries = e;
    clock_gettime(CLOCK_REALTIME, &dir->mtime);
}

static void remove_entry(struct node *dir, struct entry **e) {
    struct entry *gone = *e;
    *e = gone->next;
    free(gone->name);
    free(gone);
    clock_gettime(CLOCK_REALTIME, &dir->mtime);
}

#define POWER_CHECK() do { if (powered_off) return -EIO; } while (0)

static struct node *node_of(const char *path, struct fuse_file_info *fi) {
    if (fi && fi->fh) return (struct node *)(uintptr_t)fi->fh;
    return path ? lookup(path) : NULL;
}

static void fill_stat(const struct node *n, struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_mode = (n->is_dir ? S_IFDIR : S_IFREG) | (n->mode & 07777);
    st->st_nlink = n->is_dir ? 2 : 1;
    st->st_size = (off_t)n->size;
    st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
    st->st_mtim = st->st_ctim = st->st_atim = n->mtime;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    if (path && strcmp(path, "/.powercut-cut") == 0) {
        if (!powered_off) cut_power();
        return -ENOENT;
    }
    if (path && strcmp(path, "/.powercut-on") == 0) {
        powered_off = 0;
        return -ENOENT;
    }
    if (path && strcmp(path, "/") == 0) { fill_stat(root, st); return 0; }
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    fill_stat(n, st);
    return 0;
}

static int fs_access(const char *path, int mask) {
    (void)mask;
    POWER_CHECK();
    return lookup(path) ? 0 : -ENOENT;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)off; (void)flags;
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    if (!n->is_dir) return -ENOTDIR;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (struct entry *e = n->entries; e; e = e->next) {
        struct stat st;
        fill_stat(e->node, &st);
        fill(buf, e->name, &st, 0, 0);
    }
    return 0;
}

static int make(const char *path, mode_t mode, int is_dir, struct node **made) {
    POWER_CHECK();
    const char *name;
    struct node *dir = parent_of(path, &name);
    if (!dir) return -ENOENT;
    if (find_entry(dir, name, strlen(name))) return -EEXIST;
    struct node *n = new_node(is_dir, mode);
    add_entry(dir, name, n);
    if (made) *made = n;
    return 0;
}

static int fs_mkdir(const char *path, mode_t mode) { return make(path, mode, 1, NULL); }

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
    struct node *n;
    int rc = make(path, mode, 0, &n);
    if (rc == 0) fi->fh = (uint64_t)(uintptr_t)n;
    return rc;
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = lookup(path);
    if (!n) return -ENOENT;
    if (n->is_dir) return -EISDIR;
    if (fi->flags & O_TRUNC) { n->size = 0; clock_gettime(CLOCK_REALTIME, &n->mtime); }
    fi->fh = (uint64_t)(uintptr_t)n;
    return 0;
}

static int fs_opendir(const char *path, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = lookup(path);
    if (!n) return -ENOENT;
    if (!n->is_dir) return -ENOTDIR;
    fi->fh = (uint64_t)(uintptr_t)n;
    return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    if ((size_t)off >= n->size) return 0;
    if (size > n->size - (size_t)off) size = n->size - (size_t)off;
    memcpy(buf, n->data + off, size);
    return (int)size;
}

static void resize(struct node *n, size_t size) {
    n->data = realloc(n->data, size ? size : 1);
    if (size > n->size) memset(n->data + n->size, 0, size - n->size);
    n->size = size;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    if (fi->flags & O_APPEND) off = (off_t)n->size;
    if ((size_t)off + size > n->size) resize(n, (size_t)off + size);
    memcpy(n->data + off, buf, size);
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    return (int)size;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    if (n->is_dir) return -EISDIR;
    resize(n, (size_t)size);
    return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    sync_data(n);
    if (!datasync) commit_metadata(NULL);
    return 0;
}

static int fs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)datasync;
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    if (journal_order) commit_metadata(n); else sync_entries(n);
    return 0;
}

static int fs_unlink(const char *path) {
    POWER_CHECK();
    const char *name;
    struct node *dir = parent_of(path, &name);
    if (!dir) return -ENOENT;
    struct entry **e = find_entry(dir, name, strlen(name));
    if (!e) return -ENOENT;
    if ((*e)->node->is_dir) return -EISDIR;
    remove_entry(dir, e);
    return 0;
}

static int fs_rmdir(const char *path) {
    POWER_CHECK();
    const char *name;
    struct node *dir = parent_of(path, &name);
    if (!dir) return -ENOENT;
    struct entry **e = find_entry(dir, name, strlen(name));
    if (!e) return -ENOENT;
    if (!(*e)->node->is_dir) return -ENOTDIR;
    if ((*e)->node->entries) return -ENOTEMPTY;
    remove_entry(dir, e);
    return 0;
}

static int fs_rename(const char *from, const char *to, unsigned int flags) {
    POWER_CHECK();
    if (flags & RENAME_EXCHANGE) return -EINVAL;
    const char *from_name, *to_name;
    struct node *from_dir = parent_of(from, &from_name);
    struct node *to_dir = parent_of(to, &to_name);
    if (!from_dir || !to_dir) return -ENOENT;
    struct entry **source = find_entry(from_dir, from_name, strlen(from_name));
    if (!source) return -ENOENT;
    struct node *moved = (*source)->node;
    struct entry **target = find_entry(to_dir, to_name, strlen(to_name));
    if (target) {
        if (flags & RENAME_NOREPLACE) return -EEXIST;
        if ((*target)->node == moved) return 0;
        if ((*target)->node->is_dir && (*target)->node->entries) return -ENOTEMPTY;
        remove_entry(to_dir, target);
    }
    source = find_entry(from_dir, from_name, strlen(from_name));
    remove_entry(from_dir, source);
    add_entry(to_dir, to_name, moved);
    return 0;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    n->mode = mode;
    return 0;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
    (void)uid; (void)gid;
    POWER_CHECK();
    return node_of(path, fi) ? 0 : -ENOENT;
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    POWER_CHECK();
    struct node *n = node_of(path, fi);
    if (!n) return -ENOENT;
    if (tv) n->mtime = tv[1];
    return 0;
}

static int fs_statfs(const char *path, struct statvfs *st) {
    (void)path;
    memset(st, 0, sizeof *st);
    st->f_bsize = st->f_frsize = 4096;
    st->f_blocks = st->f_bfree = st->f_bavail = 1 << 20;
    st->f_files = st->f_ffree = 1 << 20;
    st->f_namemax = 255;
    return 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi) { (void)path; (void)fi; return 0; }

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    (void)conn;
    cfg->entry_timeout = 0;      /* every lookup comes here, so a cut is seen at once */
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->direct_io = 1;          /* no page cache: reads see this file system's state */
    cfg->hard_remove = 1;        /* unlink an open file for real (no .fuse_hidden files) */
    cfg->nullpath_ok = 1;
    cfg->use_ino = 0;
    return NULL;
}

static const struct fuse_operations operations = {
    .init = fs_init, .getattr = fs_getattr, .access = fs_access, .readdir = fs_readdir,
    .mkdir = fs_mkdir, .create = fs_create, .open = fs_open, .opendir = fs_opendir,
    .read = fs_read, .write = fs_write, .truncate = fs_truncate, .fsync = fs_fsync,
    .fsyncdir = fs_fsyncdir, .unlink = fs_unlink, .rmdir = fs_rmdir, .rename = fs_rename,
    .chmod = fs_chmod, .chown = fs_chown, .utimens = fs_utimens, .statfs = fs_statfs,
    .release = fs_release, .releasedir = fs_release,
};

int main(int argc, char *argv[]) {
    char *args[8];
    int count = 0;
    const char *mountpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--order=journal") == 0) journal_order = 1;
        else if (strcmp(argv[i], "--order=directory") == 0) journal_order = 0;
        else if (strcmp(argv[i], "--torn-tails") == 0) torn_tails = 1;
        else if (argv[i][0] != '-' && !mountpoint) mountpoint = argv[i];
        else { fprintf(stderr, "usage: powercut-fs [--order=directory|journal] [--torn-tails] MOUNTPOINT\n"); return 2; }
    }
    if (!mountpoint) { fprintf(stderr, "usage: powercut-fs [--order=directory|journal] [--torn-tails] MOUNTPOINT\n"); return 2; }
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    root = new_node(1, 0755);
    args[count++] = argv[0];
    args[count++] = "-f";
    args[count++] = "-s";
    args[count++] = "-o";
    args[count++] = "fsname=powercut-fs,subtype=powercut,allow_other,default_permissions";
    args[count++] = (char *)mountpoint;
    args[count] = NULL;
    return fuse_main(count, args, &operations, NULL);
}
