# Stage 'dedup': rules added by the dedup work (see README).
