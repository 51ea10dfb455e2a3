// src/fuse/operations.cc — the low-level FUSE handlers: decode, call the fs::View, reply.
//
// Contract: every handler replies exactly once (forget: reply_none), catches every exception
// and answers EIO instead, and never logs a plaintext name except through util::log::name().
// Directory handles hold a snapshot of View::list taken at opendir; readdir / readdirplus serve
// it by index (offset = index of the next entry). File handles own the view's OpenFile.
#define FUSE_USE_VERSION 312
#include "src/fuse/operations.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "src/util/log.h"

namespace encfsr::fuse {
namespace {

FsContext& context(fuse_req_t req) { return *static_cast<FsContext*>(fuse_req_userdata(req)); }

// --- logging ---------------------------------------------------------------------------------

void trace(const char* op, fuse_ino_t ino, int err) {
  if (!util::log::debug_enabled()) return;
  std::string message = op;
  message += " ino=" + std::to_string(ino);
  if (err != 0) {
    message += " errno=" + std::to_string(err) + " (" + std::strerror(err) + ")";
  }
  util::log::debug(message);
}

void trace_name(const char* op, fuse_ino_t parent, const char* name, int err) {
  if (!util::log::debug_enabled()) return;
  std::string message = op;
  message += " parent=" + std::to_string(parent) + " name=" + util::log::name(name);
  if (err != 0) {
    message += " errno=" + std::to_string(err) + " (" + std::strerror(err) + ")";
  }
  util::log::debug(message);
}

void reply_error(fuse_req_t req, const char* op, fuse_ino_t ino, int err) {
  trace(op, ino, err);
  fuse_reply_err(req, err);
}

// Runs a handler body; an exception becomes EIO (the body must reply last, so an exception
// always comes before any reply).
template <typename Body>
void guarded(fuse_req_t req, const char* op, fuse_ino_t ino, Body&& body) noexcept {
  try {
    body();
  } catch (const std::exception& e) {
    util::log::error(std::string("internal error in ") + op + " ino=" + std::to_string(ino) + ": " +
                     e.what());
    fuse_reply_err(req, EIO);
  } catch (...) {
    util::log::error(std::string("internal error in ") + op + " ino=" + std::to_string(ino));
    fuse_reply_err(req, EIO);
  }
}

// --- handles ---------------------------------------------------------------------------------

struct DirHandle {
  // [0] ".", [1] "..", then the view's entries.
  std::vector<fs::DirEntry> entries;
};

DirHandle* dir_handle(const fuse_file_info* fi) {
  return reinterpret_cast<DirHandle*>(static_cast<std::uintptr_t>(fi->fh));
}
fs::OpenFile* file_handle(const fuse_file_info* fi) {
  return reinterpret_cast<fs::OpenFile*>(static_cast<std::uintptr_t>(fi->fh));
}

fuse_entry_param make_entry(const FsContext& ctx, const fs::Entry& entry) {
  fuse_entry_param e{};
  e.ino = entry.ino;
  e.generation = entry.generation;
  e.attr = entry.attr;
  e.attr.st_ino = static_cast<ino_t>(entry.ino);
  e.attr_timeout = ctx.attr_timeout;
  e.entry_timeout = ctx.entry_timeout;
  return e;
}

// --- lifecycle -------------------------------------------------------------------------------

void op_destroy(void* userdata) {
  if (userdata != nullptr) static_cast<FsContext*>(userdata)->release_all();
}

void op_init(void* /*userdata*/, fuse_conn_info* conn) {
  if ((conn->capable & FUSE_CAP_READDIRPLUS) != 0) conn->want |= FUSE_CAP_READDIRPLUS;
  if ((conn->capable & FUSE_CAP_READDIRPLUS_AUTO) != 0) {
    conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
  }
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_EXPORT_SUPPORT);
  conn->max_readahead = kReadAhead;  // the kernel only ever lowers it
  conn->max_write = kMaxRequest;      // also sets max_pages, i.e. the largest read request
  util::log::debug("init: proto " + std::to_string(conn->proto_major) + "." +
                   std::to_string(conn->proto_minor));
}

// --- names and attributes --------------------------------------------------------------------

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "lookup", parent, [&] {
    FsContext& ctx = context(req);
    auto found = ctx.view.lookup(parent, name);
    if (!found) {
      trace_name("lookup", parent, name, found.error());
      fuse_reply_err(req, found.error());
      return;
    }
    const fuse_entry_param e = make_entry(ctx, *found);
    ctx.lookups.fetch_add(1, std::memory_order_relaxed);
    trace_name("lookup", parent, name, 0);
    if (fuse_reply_entry(req, &e) != 0) ctx.view.forget(found->ino, 1);
  });
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  try {
    trace("forget", ino, 0);
    context(req).view.forget(ino, nlookup);
  } catch (...) {
    util::log::error("internal error in forget");
  }
  fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  try {
    fs::View& view = context(req).view;
    for (size_t i = 0; i < count; ++i) {
      trace("forget", forgets[i].ino, 0);
      view.forget(forgets[i].ino, forgets[i].nlookup);
    }
  } catch (...) {
    util::log::error("internal error in forget_multi");
  }
  fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  guarded(req, "getattr", ino, [&] {
    FsContext& ctx = context(req);
    auto attr = ctx.view.getattr(ino);
    if (!attr) return reply_error(req, "getattr", ino, attr.error());
    struct stat st = *attr;
    st.st_ino = static_cast<ino_t>(ino);
    trace("getattr", ino, 0);
    fuse_reply_attr(req, &st, ctx.attr_timeout);
  });
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "readlink", ino, [&] {
    auto target = context(req).view.readlink(ino);
    if (!target) return reply_error(req, "readlink", ino, target.error());
    trace("readlink", ino, 0);
    fuse_reply_readlink(req, target->c_str());
  });
}

// --- directories -----------------------------------------------------------------------------

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "opendir", ino, [&] {
    auto listed = context(req).view.list(ino);
    if (!listed) return reply_error(req, "opendir", ino, listed.error());
    auto handle = std::make_unique<DirHandle>();
    handle->entries.reserve(listed->size() + 2);
    // ".." gets the directory's own number: the model keeps no parent links, and the kernel
    // resolves ".." itself.
    handle->entries.push_back(fs::DirEntry{".", ino, S_IFDIR, {}});
    handle->entries.push_back(fs::DirEntry{"..", ino, S_IFDIR, {}});
    for (auto& entry : *listed) handle->entries.push_back(std::move(entry));
    fi->fh = static_cast<uint64_t>(reinterpret_cast<std::uintptr_t>(handle.get()));
    trace("opendir", ino, 0);
    // releasedir frees it (or the end of the session, if the kernel never does). Adopted
    // before the reply: the kernel may release it as soon as the reply is out.
    DirHandle* adopted = handle.release();
    context(req).adopt(adopted);
    if (fuse_reply_open(req, fi) != 0) context(req).release(adopted);
  });
}

bool is_dot(const std::string& name) { return name == "." || name == ".."; }

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  guarded(req, "readdir", ino, [&] {
    const DirHandle* handle = dir_handle(fi);
    if (handle == nullptr || off < 0) return reply_error(req, "readdir", ino, EINVAL);
    std::vector<char> buf(size);
    size_t used = 0;
    for (auto i = static_cast<size_t>(off); i < handle->entries.size(); ++i) {
      const fs::DirEntry& entry = handle->entries[i];
      struct stat st {};
      st.st_ino = static_cast<ino_t>(entry.ino);
      st.st_mode = entry.type;
      const size_t need = fuse_add_direntry(req, buf.data() + used, size - used, entry.name.c_str(),
                                            &st, static_cast<off_t>(i + 1));
      if (need > size - used) break;
      used += need;
    }
    trace("readdir", ino, 0);
    fuse_reply_buf(req, buf.data(), used);
  });
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  guarded(req, "readdirplus", ino, [&] {
    FsContext& ctx = context(req);
    const DirHandle* handle = dir_handle(fi);
    if (handle == nullptr || off < 0) return reply_error(req, "readdirplus", ino, EINVAL);
    std::vector<char> buf(size);
    size_t used = 0;
    // The lookups this reply hands to the kernel: if the reply never reaches it (the request
    // was interrupted, or something below throws), the kernel sends no forget for them, so
    // they are given back here. Room for as many entries as the buffer can hold, reserved up
    // front, so that recording one never throws after its lookup was taken.
    std::vector<fuse_ino_t> taken;
    taken.reserve(size / fuse_add_direntry_plus(req, nullptr, 0, "", nullptr, 0) + 1);
    const auto give_back = [&] {
      for (const fuse_ino_t t : taken) ctx.view.forget(t, 1);
    };
    try {
      for (auto i = static_cast<size_t>(off); i < handle->entries.size(); ++i) {
        const fs::DirEntry& entry = handle->entries[i];
        const auto next = static_cast<off_t>(i + 1);
        // Size check first (a null buffer only measures), so no lookup is taken for an entry
        // that would not fit.
        const size_t need = fuse_add_direntry_plus(req, nullptr, 0, entry.name.c_str(), nullptr, 0);
        if (need > size - used) break;
        // An entry with ino 0 is a plain dirent: the kernel takes no reference and looks the
        // name up itself when asked, so the attributes only give the dirent its type.
        fuse_entry_param e{};
        e.attr.st_ino = static_cast<ino_t>(entry.ino);
        e.attr.st_mode = entry.type;
        if (!is_dot(entry.name)) {
          auto found = ctx.view.lookup_listed(ino, entry);
          if (found) {
            taken.push_back(found->ino);
            e = make_entry(ctx, *found);
            ctx.lookups.fetch_add(1, std::memory_order_relaxed);
          }
          // A failed lookup stays a plain dirent: the tool gets the errno for this name alone
          // when it looks closer, and the entries after it are still listed. That includes an
          // entry deleted since opendir (ENOENT): the listing and the directory's manifest
          // were taken together, so the tool must see it vanish (rsync: "file has vanished",
          // exit 24) rather than silently miss an entry the manifest lists.
        }
        const size_t added = fuse_add_direntry_plus(req, buf.data() + used, size - used,
                                                    entry.name.c_str(), &e, next);
        used += added;
      }
    } catch (...) {
      give_back();
      throw;
    }
    trace("readdirplus", ino, 0);
    if (fuse_reply_buf(req, buf.data(), used) != 0) give_back();
  });
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "releasedir", ino, [&] {
    context(req).release(dir_handle(fi));
    fi->fh = 0;
    trace("releasedir", ino, 0);
    fuse_reply_err(req, 0);
  });
}

// --- files -----------------------------------------------------------------------------------

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "open", ino, [&] {
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0) {
      return reply_error(req, "open", ino, EROFS);
    }
    auto opened = context(req).view.open(ino);
    if (!opened) return reply_error(req, "open", ino, opened.error());
    std::unique_ptr<fs::OpenFile> file = std::move(*opened);
    fi->keep_cache = file->keep_cache() ? 1U : 0U;
    fi->noflush = 1;
    fi->fh = static_cast<uint64_t>(reinterpret_cast<std::uintptr_t>(file.get()));
    trace("open", ino, 0);
    // release frees it (or the end of the session, if the kernel never does). Adopted before
    // the reply: the kernel may release it as soon as the reply is out.
    fs::OpenFile* adopted = file.release();
    context(req).adopt(adopted);
    if (fuse_reply_open(req, fi) != 0) context(req).release(adopted);
  });
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  guarded(req, "read", ino, [&] {
    fs::OpenFile* file = file_handle(fi);
    if (file == nullptr || off < 0) return reply_error(req, "read", ino, EINVAL);
    const size_t want = std::min<size_t>(size, kMaxRequest);
    auto got = file->read_shared(static_cast<std::uint64_t>(off), want);
    if (!got) return reply_error(req, "read", ino, got.error());
    trace("read", ino, 0);
    context(req).bytes_read.fetch_add(got->size(), std::memory_order_relaxed);
    fuse_reply_buf(req, reinterpret_cast<const char*>(got->data()), got->size());
  });
}

void op_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "release", ino, [&] {
    context(req).release(file_handle(fi));
    fi->fh = 0;
    trace("release", ino, 0);
    fuse_reply_err(req, 0);
  });
}

void op_flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  trace("flush", ino, 0);
  fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info* /*fi*/) {
  trace("fsync", ino, 0);
  fuse_reply_err(req, 0);
}

// --- the rest --------------------------------------------------------------------------------

void op_statfs(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "statfs", ino, [&] {
    struct statvfs st {};
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_namemax = 255;
    st.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
    trace("statfs", ino, 0);
    fuse_reply_statfs(req, &st);
  });
}

// Xattrs are what the view knows of an entry (the decrypt view: its manifest's); a reply with
// size 0 asks for the length, a buffer too small is ERANGE. A view that serves none answers
// ENOSYS: the kernel then fails every later getxattr / listxattr of the mount with EOPNOTSUPP
// itself, without asking (View::serves_xattrs).
void reply_xattr_bytes(fuse_req_t req, const char* op, fuse_ino_t ino, const std::string& bytes,
                       size_t size) {
  if (size == 0) {
    trace(op, ino, 0);
    fuse_reply_xattr(req, bytes.size());
  } else if (bytes.size() > size) {
    reply_error(req, op, ino, ERANGE);
  } else {
    trace(op, ino, 0);
    fuse_reply_buf(req, bytes.data(), bytes.size());
  }
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  guarded(req, "getxattr", ino, [&] {
    if (!context(req).view.serves_xattrs()) return reply_error(req, "getxattr", ino, ENOSYS);
    auto extra = context(req).view.extra_attrs(ino);
    if (!extra) return reply_error(req, "getxattr", ino, extra.error());
    for (const crypto::Xattr& x : extra->xattrs) {
      if (x.name == name) return reply_xattr_bytes(req, "getxattr", ino, x.value, size);
    }
    reply_error(req, "getxattr", ino, ENODATA);
  });
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  guarded(req, "listxattr", ino, [&] {
    if (!context(req).view.serves_xattrs()) return reply_error(req, "listxattr", ino, ENOSYS);
    auto extra = context(req).view.extra_attrs(ino);
    if (!extra) return reply_error(req, "listxattr", ino, extra.error());
    std::string names;
    for (const crypto::Xattr& x : extra->xattrs) {
      names += x.name;
      names.push_back('\0');
    }
    reply_xattr_bytes(req, "listxattr", ino, names, size);
  });
}

void op_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  guarded(req, "access", ino, [&] {
    if ((mask & W_OK) != 0) return reply_error(req, "access", ino, EROFS);
    auto attr = context(req).view.getattr(ino);
    if (!attr) return reply_error(req, "access", ino, attr.error());
    trace("access", ino, 0);
    fuse_reply_err(req, 0);
  });
}

// --- write-type calls: EROFS -----------------------------------------------------------------

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int, fuse_file_info*) {
  reply_error(req, "setattr", ino, EROFS);
}
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char*, mode_t, dev_t) {
  reply_error(req, "mknod", parent, EROFS);
}
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char*, mode_t) {
  reply_error(req, "mkdir", parent, EROFS);
}
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char*) {
  reply_error(req, "unlink", parent, EROFS);
}
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char*) {
  reply_error(req, "rmdir", parent, EROFS);
}
void op_symlink(fuse_req_t req, const char*, fuse_ino_t parent, const char*) {
  reply_error(req, "symlink", parent, EROFS);
}
void op_rename(fuse_req_t req, fuse_ino_t parent, const char*, fuse_ino_t, const char*,
               unsigned int) {
  reply_error(req, "rename", parent, EROFS);
}
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t, const char*) {
  reply_error(req, "link", ino, EROFS);
}
void op_write(fuse_req_t req, fuse_ino_t ino, const char*, size_t, off_t, fuse_file_info*) {
  reply_error(req, "write", ino, EROFS);
}
void op_create(fuse_req_t req, fuse_ino_t parent, const char*, mode_t, fuse_file_info*) {
  reply_error(req, "create", parent, EROFS);
}
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char*, const char*, size_t, int) {
  reply_error(req, "setxattr", ino, EROFS);
}
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char*) {
  reply_error(req, "removexattr", ino, EROFS);
}
void op_fallocate(fuse_req_t req, fuse_ino_t ino, int, off_t, off_t, fuse_file_info*) {
  reply_error(req, "fallocate", ino, EROFS);
}
void op_copy_file_range(fuse_req_t req, fuse_ino_t ino, off_t, fuse_file_info*, fuse_ino_t, off_t,
                        fuse_file_info*, size_t, int) {
  reply_error(req, "copy_file_range", ino, EROFS);
}

fuse_lowlevel_ops build_ops() {
  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.destroy = op_destroy;
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.forget_multi = op_forget_multi;
  ops.getattr = op_getattr;
  ops.readlink = op_readlink;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.readdirplus = op_readdirplus;
  ops.releasedir = op_releasedir;
  ops.fsyncdir = op_fsync;
  ops.open = op_open;
  ops.read = op_read;
  ops.release = op_release;
  ops.flush = op_flush;
  ops.fsync = op_fsync;
  ops.statfs = op_statfs;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  ops.access = op_access;
  ops.setattr = op_setattr;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.symlink = op_symlink;
  ops.rename = op_rename;
  ops.link = op_link;
  ops.write = op_write;
  ops.create = op_create;
  ops.setxattr = op_setxattr;
  ops.removexattr = op_removexattr;
  ops.fallocate = op_fallocate;
  ops.copy_file_range = op_copy_file_range;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& lowlevel_ops() noexcept {
  static const fuse_lowlevel_ops ops = build_ops();
  return ops;
}

}  // namespace encfsr::fuse
