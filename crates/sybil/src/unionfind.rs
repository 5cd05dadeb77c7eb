//! Disjoint sets with path halving and union by size.

/// Union-find over `0..n`.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Merge the sets of `a` and `b`; true if they were apart.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        // Ties go to the smaller id so the result does not depend on argument order.
        if self.size[ra as usize] == self.size[rb as usize] && rb < ra {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// Size of `x`'s set.
    pub fn set_size(&mut self, x: u32) -> u32 {
        let r = self.find(x);
        self.size[r as usize]
    }

    /// Component label per element: labels are `0..k`, numbered by each set's smallest
    /// element (deterministic whatever the union order).
    pub fn labels(&mut self) -> (Vec<u32>, u32) {
        let n = self.parent.len();
        let mut label_of_root = vec![u32::MAX; n];
        let mut out = vec![0u32; n];
        let mut k = 0u32;
        for x in 0..n as u32 {
            let r = self.find(x) as usize;
            if label_of_root[r] == u32::MAX {
                label_of_root[r] = k;
                k += 1;
            }
            out[x as usize] = label_of_root[r];
        }
        (out, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_and_labels() {
        let mut uf = UnionFind::new(7);
        assert!(uf.union(0, 1));
        assert!(uf.union(2, 1));
        assert!(!uf.union(0, 2));
        assert!(uf.union(4, 5));
        assert_eq!(uf.set_size(2), 3);
        assert_eq!(uf.set_size(3), 1);
        assert_eq!(uf.find(0), uf.find(2));
        assert_ne!(uf.find(0), uf.find(4));
        let (labels, k) = uf.labels();
        assert_eq!(k, 4);
        assert_eq!(labels, vec![0, 0, 0, 1, 2, 2, 3]);
    }

    #[test]
    fn labels_do_not_depend_on_union_order() {
        let pairs = [(0u32, 5u32), (5, 3), (1, 2), (6, 1)];
        let mut a = UnionFind::new(8);
        for &(x, y) in &pairs {
            a.union(x, y);
        }
        let mut b = UnionFind::new(8);
        for &(x, y) in pairs.iter().rev() {
            b.union(y, x);
        }
        assert_eq!(a.labels(), b.labels());
    }
}
