/* build_tree.h — where a program run from its CMake build tree, without
 * being installed, finds the checkout's data.  CMakeLists.txt makes the
 * link BUILD/seeds to the checkout's seeds/ next to tryggd and tryggctl;
 * nothing of the kind is installed next to an installed program, so there
 * the answer is always "not a build tree" and the installed data is used. */
#ifndef TRYGGD_BUILD_TREE_H
#define TRYGGD_BUILD_TREE_H

/* The path of the running program (/proc/self/exe) in *program, to free:
 * 0, or a negative errno. */
int build_tree_program(char **program);

/* The district profiles next to program, in its folder's seeds/ (the
 * link), with every link resolved so that logs and --check name the
 * checkout's own file, in *profiles, to free: 0, -ENOENT when program's
 * folder has none (not a build tree), or another negative errno. */
int build_tree_profiles(const char *program, char **profiles);

#endif
