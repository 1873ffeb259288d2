"""Latent analysis: encode a split, view the cloud in 2-D, its enclosing circle, lattices,
prior samples, attribute vectors and interpolation paths. Pure numpy + a decoder; no Qt.

The window calls these from worker threads and hover code; the CLI verbs call them too.
"""
from .attributes import (AttributeVector, apply_vector, attribute_mask, attribute_vector,
                         attribute_vectors, combine, correlated_attributes, mean_difference,
                         sweep_alphas)
from .circle import DEFAULT_COVERAGE, Circle, enclosing_circle
from .decoding import decode_batch, sample_prior
from .encoding import Encodings, encode_images, encode_split
from .groups import (GROUP_VECTOR_PREFIX, GROUPS_KEY, MAX_GROUPS, MAX_NAME, Group, dataset_identity,
                     find_group, group_vector, groups_for, make_group, parse_vector_name, read_groups,
                     read_index_file, select, vector_name, write_groups, write_index_file)
from .lattice import (CENTRES, CIRCLES, EXTENTS, Lattice, grid_sites, latent_circle, latent_lattice,
                      plane_circles, square_lattice, write_sites_csv)
from .paths import interpolate, lerp_path, slerp_path
from .projection import Projection, coordinate_projection, make_projection, pca_projection

__all__ = [
    "AttributeVector", "apply_vector", "attribute_mask", "attribute_vector", "attribute_vectors",
    "combine", "correlated_attributes", "mean_difference", "sweep_alphas",
    "DEFAULT_COVERAGE", "Circle", "enclosing_circle",
    "decode_batch", "sample_prior",
    "Encodings", "encode_images", "encode_split",
    "GROUP_VECTOR_PREFIX", "GROUPS_KEY", "MAX_GROUPS", "MAX_NAME", "Group", "dataset_identity", "find_group",
    "group_vector", "groups_for", "make_group", "parse_vector_name", "read_groups", "read_index_file",
    "select", "vector_name", "write_groups", "write_index_file",
    "CENTRES", "CIRCLES", "EXTENTS", "Lattice", "grid_sites", "latent_circle", "latent_lattice",
    "plane_circles", "square_lattice", "write_sites_csv",
    "interpolate", "lerp_path", "slerp_path",
    "Projection", "coordinate_projection", "make_projection", "pca_projection",
]
