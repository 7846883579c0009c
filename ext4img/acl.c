// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * POSIX ACLs, kept as kernel ext4 keeps them.
 *
 * An ACL is the xattr system.posix_acl_access (or _default, on
 * directories).  The kernel hands it to us in its xattr format (a
 * version word, then 8-byte tag/perm/id entries); libext2fs turns that
 * into ext4's compact on-disk form (xattr index 2 or 3) when it stores
 * it, and back when it reads it, so kernel ext4, fuse2fs and bmapfs see
 * the same ACLs on the same image.
 *
 * With FUSE_POSIX_ACL the kernel checks permissions against the ACLs it
 * reads from us, but the rest of what ext4 does in the kernel is ours:
 * setting an access ACL sets the mode from it (and stores no ACL at all
 * when the mode says everything), and clears set-group-ID for a caller
 * outside the file's group; chmod rewrites the ACL's owner, group (or
 * mask) and other entries; a new inode inherits its directory's default
 * ACL.  For that last one we ask for FUSE_DONT_MASK: the kernel then
 * sends the mode unmasked, with the umask beside it, and we apply the
 * umask only where no default ACL takes its place.
 *
 * Every function here runs with ext4img.lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext4img.h"

#define ACL_NAME_ACCESS		"system.posix_acl_access"
#define ACL_NAME_DEFAULT	"system.posix_acl_default"
#define ACL_XATTR_VERSION	2

/* entry tags */
#define ACL_USER_OBJ		0x01
#define ACL_USER		0x02
#define ACL_GROUP_OBJ		0x04
#define ACL_GROUP		0x08
#define ACL_MASK		0x10
#define ACL_OTHER		0x20

/* the kernel's xattr format, little-endian like the image */
struct acl_xattr_entry {
	uint16_t	tag;
	uint16_t	perm;
	uint32_t	id;
};

struct acl_xattr {
	uint32_t		version;
	struct acl_xattr_entry	e[];
};

/* An ACL in the kernel's xattr format, as read or about to be written. */
struct acl {
	struct acl_xattr	*x;
	size_t			len;	/* bytes */
	size_t			nr;	/* entries */
};

bool ext4img_acl_name(const char *name)
{
	return !strcmp(name, ACL_NAME_ACCESS) ||
	       !strcmp(name, ACL_NAME_DEFAULT);
}

/* Check @a->x (version, size, known tags) and count its entries. */
static int acl_parse(struct acl *a)
{
	size_t i;

	if (a->len < sizeof(*a->x) ||
	    (a->len - sizeof(*a->x)) % sizeof(a->x->e[0]) ||
	    ext2fs_le32_to_cpu(a->x->version) != ACL_XATTR_VERSION)
		return -EINVAL;
	a->nr = (a->len - sizeof(*a->x)) / sizeof(a->x->e[0]);
	for (i = 0; i < a->nr; i++) {
		switch (ext2fs_le16_to_cpu(a->x->e[i].tag)) {
		case ACL_USER_OBJ: case ACL_USER: case ACL_GROUP_OBJ:
		case ACL_GROUP: case ACL_MASK: case ACL_OTHER:
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static struct acl_xattr_entry *acl_find(struct acl *a, unsigned int tag)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (ext2fs_le16_to_cpu(a->x->e[i].tag) == tag)
			return &a->x->e[i];
	return NULL;
}

static unsigned int perm_of(const struct acl_xattr_entry *e)
{
	return e ? ext2fs_le16_to_cpu(e->perm) & 7 : 0;
}

static void set_perm(struct acl_xattr_entry *e, unsigned int perm)
{
	if (e)
		e->perm = ext2fs_cpu_to_le16(perm & 7);
}

/*
 * The permission bits @a stands for: owner, mask (or group when there
 * is no mask) and other.  Return: whether @a says more than those bits
 * (named entries or a mask), i.e. must be stored.
 */
static bool acl_mode(struct acl *a, mode_t *mode)
{
	struct acl_xattr_entry *mask = acl_find(a, ACL_MASK);
	struct acl_xattr_entry *group = mask ? mask :
					acl_find(a, ACL_GROUP_OBJ);

	*mode = perm_of(acl_find(a, ACL_USER_OBJ)) << 6 |
		perm_of(group) << 3 | perm_of(acl_find(a, ACL_OTHER));
	return a->nr > 3 || mask;
}

/* Read ACL @name of @ino.  Return: 0, -ENODATA or another -errno. */
static int acl_get(struct ext4img *img, ext2_ino_t ino, const char *name,
		   struct acl *a)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	void *v;
	int ret;

	err = ext2fs_xattrs_open(img->fs, ino, &h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return -ENODATA;
	if (!err) {
		err = ext2fs_xattrs_read(h);
		if (!err)
			err = ext2fs_xattr_get(h, name, &v, &a->len);
		ext2fs_xattrs_close(&h);
	}
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return -ENODATA;
	if (err)
		return ext4img_err(err);
	a->x = v;
	ret = acl_parse(a);
	if (ret)
		ext2fs_free_mem(&a->x);
	return ret;
}

/* Store @a (NULL: remove) as ACL @name of @ino. */
static int acl_put(struct ext4img *img, ext2_ino_t ino, const char *name,
		   const struct acl *a)
{
	struct ext2_xattr_handle *h;
	errcode_t err;

	err = ext2fs_xattrs_open(img->fs, ino, &h);
	if (err)
		return ext4img_err(err);
	err = ext2fs_xattrs_read(h);
	if (!err && a)
		err = ext2fs_xattr_set(h, name, a->x, a->len);
	else if (!err)
		err = ext2fs_xattr_remove(h, name);
	ext2fs_xattrs_close(&h);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return 0;
	return ext4img_err(err);
}

/*
 * ext4img_acl_set_access - the caller @cred sets the access ACL of @ino
 * to @value: the mode follows it (as ext4's posix_acl_update_mode), an
 * ACL the mode says entirely is not stored, and set-group-ID goes for a
 * caller that is neither root nor in the file's group.
 */
int ext4img_acl_set_access(struct ext4img *img, const struct bmap_cred *cred,
			   ext2_ino_t ino, const void *value, size_t size)
{
	struct acl a = { .x = (struct acl_xattr *)value, .len = size };
	struct ext2_inode_large in;
	bool store;
	mode_t mode;
	int ret;

	ret = acl_parse(&a);
	if (ret)
		return ret;
	store = acl_mode(&a, &mode);
	ret = acl_put(img, ino, ACL_NAME_ACCESS, store ? &a : NULL);
	if (!ret)
		ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	in.i_mode = (in.i_mode & ~0777) | mode;
	if (cred->uid && !ext4img_in_group(cred, inode_gid(in)))
		in.i_mode &= ~S_ISGID;
	ext4img_touch(&in, EXT4IMG_CTIME);
	return ext4img_write_inode(img, ino, &in);
}

/*
 * ext4img_acl_chmod - @ino's mode became @mode: carry its permission bits
 * into the access ACL, if there is one (as ext4's posix_acl_chmod).
 */
int ext4img_acl_chmod(struct ext4img *img, ext2_ino_t ino, mode_t mode)
{
	struct acl a;
	struct acl_xattr_entry *mask;
	int ret;

	if (!img->acl || LINUX_S_ISLNK(mode))
		return 0;
	ret = acl_get(img, ino, ACL_NAME_ACCESS, &a);
	if (ret)
		return ret == -ENODATA ? 0 : ret;
	mask = acl_find(&a, ACL_MASK);
	set_perm(acl_find(&a, ACL_USER_OBJ), mode >> 6);
	set_perm(mask ? mask : acl_find(&a, ACL_GROUP_OBJ), mode >> 3);
	set_perm(acl_find(&a, ACL_OTHER), mode);
	ret = acl_put(img, ino, ACL_NAME_ACCESS, &a);
	ext2fs_free_mem(&a.x);
	return ret;
}

/*
 * Narrow the default ACL @a, copied for a new inode, to the permission
 * bits of *@mode, and *@mode to it (as the kernel's
 * posix_acl_create_masq).  Return: whether the result must be stored.
 */
static bool acl_masq(struct acl *a, mode_t *mode)
{
	struct acl_xattr_entry *owner = acl_find(a, ACL_USER_OBJ);
	struct acl_xattr_entry *other = acl_find(a, ACL_OTHER);
	struct acl_xattr_entry *mask = acl_find(a, ACL_MASK);
	struct acl_xattr_entry *group = mask ? mask :
					acl_find(a, ACL_GROUP_OBJ);
	mode_t want = *mode, acl;

	set_perm(owner, perm_of(owner) & (want >> 6));
	set_perm(group, perm_of(group) & (want >> 3));
	set_perm(other, perm_of(other) & want);
	acl_mode(a, &acl);
	*mode = (want & ~0777) | (want & acl);
	return a->nr > 3 || mask;
}

/*
 * ext4img_acl_create - a new inode of *@mode is made in @dir by the
 * caller @cred.  Without a default ACL on @dir the umask applies; with
 * one, the new inode gets it instead: *@mode narrowed by it, an access
 * ACL when that says more than the mode, and for a directory the default
 * ACL itself.  @n keeps what ext4img_acl_init must store.
 */
int ext4img_acl_create(struct ext4img *img, const struct bmap_cred *cred,
		       ext2_ino_t dir, mode_t *mode, struct ext4img_acl_new *n)
{
	struct acl def, acc;
	int ret;

	memset(n, 0, sizeof(*n));
	/* the kernel applied the umask itself; symlinks take neither */
	if (!img->acl || LINUX_S_ISLNK(*mode))
		return 0;
	/* most directories have no xattrs: skip opening them every create */
	if (!ext4img_may_have_xattrs(img, dir))
		ret = -ENODATA;
	else
		ret = acl_get(img, dir, ACL_NAME_DEFAULT, &def);
	if (ret == -ENODATA) {
		*mode &= ~(cred->umask & 0777);
		return 0;
	}
	if (ret)
		return ret;
	acc.x = malloc(def.len);
	if (!acc.x) {
		ext2fs_free_mem(&def.x);
		return -ENOMEM;
	}
	memcpy(acc.x, def.x, def.len);
	acc.len = def.len;
	acc.nr = def.nr;
	if (acl_masq(&acc, mode)) {
		n->acl = acc.x;
		n->acl_len = acc.len;
	} else {
		free(acc.x);
	}
	if (LINUX_S_ISDIR(*mode)) {
		n->def = malloc(def.len);
		if (!n->def) {
			ext2fs_free_mem(&def.x);
			ext4img_acl_new_free(n);
			return -ENOMEM;
		}
		memcpy(n->def, def.x, def.len);
		n->def_len = def.len;
	}
	ext2fs_free_mem(&def.x);
	return 0;
}

/* ext4img_acl_init - store @n's ACLs on the new inode @ino, and free @n. */
int ext4img_acl_init(struct ext4img *img, ext2_ino_t ino,
		     struct ext4img_acl_new *n)
{
	struct acl a;
	int ret = 0;

	if (n->def) {
		a = (struct acl){ .x = n->def, .len = n->def_len };
		ret = acl_put(img, ino, ACL_NAME_DEFAULT, &a);
	}
	if (!ret && n->acl) {
		a = (struct acl){ .x = n->acl, .len = n->acl_len };
		ret = acl_put(img, ino, ACL_NAME_ACCESS, &a);
	}
	ext4img_acl_new_free(n);
	return ret;
}

void ext4img_acl_new_free(struct ext4img_acl_new *n)
{
	free(n->acl);
	free(n->def);
	memset(n, 0, sizeof(*n));
}
