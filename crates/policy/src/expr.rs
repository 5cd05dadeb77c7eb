//! Policy expressions: CEL syntax (parsed by the `cel` crate), statically type-checked against
//! the feature table when the campaign loads, then evaluated by a small native evaluator.
//!
//! Supported: int, bool, string and double literals; feature names; `+ - * / %`, unary `-`;
//! `== != < <= > >=`; `&& || !`; `c ? a : b`; `min(a, b)`, `max(a, b)`, `int(x)`, `double(x)`,
//! `size(s)`. Integer arithmetic is checked: an overflow or division by zero makes the wallet's
//! expression fail with a reason, never a wrong number. Anything else (macros, maps, lists,
//! field selection) is rejected at load time with its position.
//!
//! Why not run the `cel` interpreter per wallet: it is dynamically typed (a type error would
//! only surface halfway through a run) and costs microseconds per call; the issue asks for
//! errors at load time and a million wallets in seconds. A differential test checks this
//! evaluator against the `cel` interpreter on random expressions.

use cel::common::ast::{Expr as CelExpr, IdedExpr, LiteralValue};
use cel::parser::Parser;

use crate::features::{definitions, Features, Kind};

/// Static type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Double,
    Bool,
    Str,
}

impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ty::Int => "int",
            Ty::Double => "double",
            Ty::Bool => "bool",
            Ty::Str => "string",
        })
    }
}

/// A compile error with the character offset in the expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{msg} (at column {col} of `{src}`)")]
pub struct ExprError {
    pub src: String,
    pub col: usize,
    pub msg: String,
}

/// Compiled node; the `Ty` fields record the checked operand type (kept for debugging).
#[derive(Clone, Debug)]
#[allow(dead_code)]
enum Node {
    Int(i64),
    Double(f64),
    Bool(bool),
    Str(String),
    FeatInt(usize),
    FeatBool(usize),
    FeatStr(usize),
    Arith(char, Box<Node>, Box<Node>, Ty),
    Neg(Box<Node>, Ty),
    Cmp(&'static str, Box<Node>, Box<Node>, Ty),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    MinMax(bool, Box<Node>, Box<Node>, Ty),
    ToInt(Box<Node>, Ty),
    ToDouble(Box<Node>, Ty),
    Size(Box<Node>),
}

/// Runtime value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    Int(i64),
    Double(f64),
    Bool(bool),
    Str(std::borrow::Cow<'a, str>),
}

/// An evaluation failure for one wallet (overflow, division by zero).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// A compiled, type-checked expression.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub source: String,
    pub ty: Ty,
    /// Feature names the expression reads, sorted (used to explain verdicts).
    pub features: Vec<String>,
    root: Node,
}

struct Ctx<'s> {
    src: &'s str,
    info: cel::common::ast::SourceInfo,
    feats: Vec<(String, Kind)>,
    used: std::collections::BTreeSet<String>,
}

impl Ctx<'_> {
    fn err(&self, id: u64, msg: impl Into<String>) -> ExprError {
        let off = self
            .info
            .offset_for(id)
            .map(|(s, _)| s as usize)
            .unwrap_or(0);
        // Offsets are in characters; report a 1-based column.
        ExprError {
            src: self.src.to_string(),
            col: off + 1,
            msg: msg.into(),
        }
    }

    fn compile(&mut self, e: &IdedExpr) -> Result<(Node, Ty), ExprError> {
        match &e.expr {
            CelExpr::Literal(l) => match l {
                LiteralValue::Int(i) => Ok((Node::Int(*i.inner()), Ty::Int)),
                LiteralValue::UInt(u) => {
                    let v = i64::try_from(*u.inner())
                        .map_err(|_| self.err(e.id, "unsigned literal too large"))?;
                    Ok((Node::Int(v), Ty::Int))
                }
                LiteralValue::Double(d) => Ok((Node::Double(*d.inner()), Ty::Double)),
                LiteralValue::Boolean(b) => Ok((Node::Bool(*b.inner()), Ty::Bool)),
                LiteralValue::String(s) => Ok((Node::Str(s.inner().to_string()), Ty::Str)),
                _ => Err(self.err(
                    e.id,
                    "only int, double, bool and string literals are supported",
                )),
            },
            CelExpr::Ident(name) => {
                let Some((i, (_, k))) = self.feats.iter().enumerate().find(|(_, (n, _))| n == name)
                else {
                    let near = self.suggest(name);
                    return Err(self.err(e.id, format!("unknown feature `{name}`{near}")));
                };
                self.used.insert(name.clone());
                Ok(match k {
                    Kind::Int => (Node::FeatInt(i), Ty::Int),
                    Kind::Bool => (Node::FeatBool(i), Ty::Bool),
                    Kind::Str => (Node::FeatStr(i), Ty::Str),
                })
            }
            CelExpr::Call(c) => {
                if c.target.is_some() {
                    return Err(self.err(
                        e.id,
                        format!("method calls (`.{}`) are not supported", c.func_name),
                    ));
                }
                let f = c.func_name.as_str();
                let args = &c.args;
                let arity = |n: usize| -> Result<(), ExprError> {
                    if args.len() != n {
                        Err(self.err(
                            e.id,
                            format!("`{}` takes {n} argument(s), got {}", pretty(f), args.len()),
                        ))
                    } else {
                        Ok(())
                    }
                };
                match f {
                    "_+_" | "_-_" | "_*_" | "_/_" | "_%_" => {
                        arity(2)?;
                        let (a, ta) = self.compile(&args[0])?;
                        let (b, tb) = self.compile(&args[1])?;
                        let op = f.as_bytes()[1] as char;
                        let ok = ta == tb && (ta == Ty::Int || ta == Ty::Double && op != '%');
                        if !ok {
                            return Err(self.err(
                                e.id,
                                format!("type error: `{op}` needs two ints or two doubles, got {ta} and {tb}"),
                            ));
                        }
                        Ok((Node::Arith(op, Box::new(a), Box::new(b), ta), ta))
                    }
                    "-_" => {
                        arity(1)?;
                        let (a, ta) = self.compile(&args[0])?;
                        if ta != Ty::Int && ta != Ty::Double {
                            return Err(
                                self.err(e.id, format!("type error: `-` needs a number, got {ta}"))
                            );
                        }
                        Ok((Node::Neg(Box::new(a), ta), ta))
                    }
                    "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" => {
                        arity(2)?;
                        let (a, ta) = self.compile(&args[0])?;
                        let (b, tb) = self.compile(&args[1])?;
                        let op: &'static str = match f {
                            "_==_" => "==",
                            "_!=_" => "!=",
                            "_<_" => "<",
                            "_<=_" => "<=",
                            "_>_" => ">",
                            _ => ">=",
                        };
                        if ta != tb {
                            return Err(self
                                .err(e.id, format!("type error: `{op}` compares {ta} with {tb}")));
                        }
                        if ta == Ty::Bool && !matches!(op, "==" | "!=") {
                            return Err(self
                                .err(e.id, format!("type error: `{op}` is not defined on bool")));
                        }
                        Ok((Node::Cmp(op, Box::new(a), Box::new(b), ta), Ty::Bool))
                    }
                    "_&&_" | "_||_" => {
                        arity(2)?;
                        let (a, ta) = self.compile(&args[0])?;
                        let (b, tb) = self.compile(&args[1])?;
                        if ta != Ty::Bool || tb != Ty::Bool {
                            return Err(self.err(
                                e.id,
                                format!(
                                    "type error: `{}` needs two bools, got {ta} and {tb}",
                                    pretty(f)
                                ),
                            ));
                        }
                        Ok((
                            if f == "_&&_" {
                                Node::And(Box::new(a), Box::new(b))
                            } else {
                                Node::Or(Box::new(a), Box::new(b))
                            },
                            Ty::Bool,
                        ))
                    }
                    "!_" => {
                        arity(1)?;
                        let (a, ta) = self.compile(&args[0])?;
                        if ta != Ty::Bool {
                            return Err(
                                self.err(e.id, format!("type error: `!` needs a bool, got {ta}"))
                            );
                        }
                        Ok((Node::Not(Box::new(a)), Ty::Bool))
                    }
                    "_?_:_" => {
                        arity(3)?;
                        let (c0, t0) = self.compile(&args[0])?;
                        let (a, ta) = self.compile(&args[1])?;
                        let (b, tb) = self.compile(&args[2])?;
                        if t0 != Ty::Bool {
                            return Err(self.err(
                                e.id,
                                format!("type error: the condition of `?:` is {t0}, not bool"),
                            ));
                        }
                        if ta != tb {
                            return Err(self.err(
                                e.id,
                                format!("type error: `?:` branches are {ta} and {tb}"),
                            ));
                        }
                        Ok((Node::Cond(Box::new(c0), Box::new(a), Box::new(b)), ta))
                    }
                    "min" | "max" => {
                        arity(2)?;
                        let (a, ta) = self.compile(&args[0])?;
                        let (b, tb) = self.compile(&args[1])?;
                        if ta != tb || !(ta == Ty::Int || ta == Ty::Double) {
                            return Err(self.err(e.id, format!("type error: `{f}` needs two ints or two doubles, got {ta} and {tb}")));
                        }
                        Ok((Node::MinMax(f == "min", Box::new(a), Box::new(b), ta), ta))
                    }
                    "int" | "double" => {
                        arity(1)?;
                        let (a, ta) = self.compile(&args[0])?;
                        if !(ta == Ty::Int || ta == Ty::Double) {
                            return Err(self
                                .err(e.id, format!("type error: `{f}` needs a number, got {ta}")));
                        }
                        Ok(if f == "int" {
                            (Node::ToInt(Box::new(a), ta), Ty::Int)
                        } else {
                            (Node::ToDouble(Box::new(a), ta), Ty::Double)
                        })
                    }
                    "size" => {
                        arity(1)?;
                        let (a, ta) = self.compile(&args[0])?;
                        if ta != Ty::Str {
                            return Err(self.err(
                                e.id,
                                format!("type error: `size` needs a string, got {ta}"),
                            ));
                        }
                        Ok((Node::Size(Box::new(a)), Ty::Int))
                    }
                    other => Err(self.err(
                        e.id,
                        format!("function `{}` is not supported", pretty(other)),
                    )),
                }
            }
            CelExpr::Select(s) => Err(self.err(
                e.id,
                format!("field selection `.{}` is not supported", s.field),
            )),
            CelExpr::Comprehension(_) => {
                Err(self.err(e.id, "macros (all, exists, map, filter) are not supported"))
            }
            CelExpr::List(_) | CelExpr::Map(_) | CelExpr::Struct(_) => {
                Err(self.err(e.id, "lists, maps and messages are not supported"))
            }
            CelExpr::Unspecified => Err(self.err(e.id, "empty expression")),
        }
    }

    fn suggest(&self, name: &str) -> String {
        let best = self
            .feats
            .iter()
            .map(|(n, _)| (edit_distance(n, name), n))
            .min()
            .filter(|(d, _)| *d <= 3);
        match best {
            Some((_, n)) => format!("; did you mean `{n}`?"),
            None => String::new(),
        }
    }
}

fn pretty(f: &str) -> String {
    f.trim_matches('_').replace('_', "").to_string()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + (ca != *cb) as usize)
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parse and type-check `src` against the feature table; `want` is the required result type.
pub fn compile(src: &str, want: Ty) -> Result<Compiled, ExprError> {
    let (ast, info) = Parser::new().parse_with_source_info(src).map_err(|errs| {
        let first = errs.errors.first();
        let col = first.map(|e| e.pos.1.max(0) as usize + 1).unwrap_or(1);
        let msg = first
            .map(|e| e.msg.clone())
            .unwrap_or_else(|| "syntax error".into());
        ExprError {
            src: src.to_string(),
            col,
            msg: format!("syntax error: {msg}"),
        }
    })?;
    let feats = definitions()
        .into_iter()
        .map(|d| (d.name, d.kind))
        .collect();
    let mut ctx = Ctx {
        src,
        info,
        feats,
        used: Default::default(),
    };
    let (root, ty) = ctx.compile(&ast)?;
    if ty != want {
        return Err(ExprError {
            src: src.to_string(),
            col: 1,
            msg: format!("type error: the expression is {ty}, it must be {want}"),
        });
    }
    Ok(Compiled {
        source: src.to_string(),
        ty,
        features: ctx.used.into_iter().collect(),
        root,
    })
}

impl Compiled {
    pub fn eval<'a>(&self, f: &'a Features) -> Result<Val<'a>, EvalError> {
        eval(&self.root, f)
    }
    pub fn eval_bool(&self, f: &Features) -> Result<bool, EvalError> {
        match self.eval(f)? {
            Val::Bool(b) => Ok(b),
            v => Err(EvalError(format!("expected bool, got {v:?}"))),
        }
    }
    pub fn eval_int(&self, f: &Features) -> Result<i64, EvalError> {
        match self.eval(f)? {
            Val::Int(i) => Ok(i),
            v => Err(EvalError(format!("expected int, got {v:?}"))),
        }
    }
}

fn eval<'a>(n: &Node, f: &'a Features) -> Result<Val<'a>, EvalError> {
    use Val::*;
    Ok(match n {
        Node::Int(i) => Int(*i),
        Node::Double(d) => Double(*d),
        Node::Bool(b) => Bool(*b),
        Node::Str(s) => Str(std::borrow::Cow::Owned(s.clone())),
        Node::FeatInt(i) => Int(f.get_int(*i)),
        Node::FeatBool(i) => Bool(f.get_int(*i) != 0),
        Node::FeatStr(i) => Str(std::borrow::Cow::Borrowed(f.get_str(*i))),
        Node::Arith(op, a, b, _) => match (eval(a, f)?, eval(b, f)?) {
            (Int(x), Int(y)) => Int(match op {
                '+' => x.checked_add(y),
                '-' => x.checked_sub(y),
                '*' => x.checked_mul(y),
                '/' => x.checked_div(y),
                _ => x.checked_rem(y),
            }
            .ok_or_else(|| {
                EvalError(format!(
                    "integer overflow or division by zero in {x} {op} {y}"
                ))
            })?),
            (Double(x), Double(y)) => Double(match op {
                '+' => x + y,
                '-' => x - y,
                '*' => x * y,
                _ => x / y,
            }),
            _ => return Err(EvalError("arithmetic on mismatched types".into())),
        },
        Node::Neg(a, _) => match eval(a, f)? {
            Int(x) => Int(x
                .checked_neg()
                .ok_or_else(|| EvalError("integer overflow in negation".into()))?),
            Double(x) => Double(-x),
            _ => return Err(EvalError("negation of a non-number".into())),
        },
        Node::Cmp(op, a, b, _) => {
            let (x, y) = (eval(a, f)?, eval(b, f)?);
            let ord = match (&x, &y) {
                (Int(p), Int(q)) => p.partial_cmp(q),
                (Double(p), Double(q)) => p.partial_cmp(q),
                (Str(p), Str(q)) => p.partial_cmp(q),
                (Bool(p), Bool(q)) => p.partial_cmp(q),
                _ => None,
            };
            use std::cmp::Ordering::*;
            Bool(match (*op, ord) {
                ("==", o) => o == Some(Equal),
                ("!=", o) => o != Some(Equal),
                (_, None) => false,
                ("<", Some(o)) => o == Less,
                ("<=", Some(o)) => o != Greater,
                (">", Some(o)) => o == Greater,
                (_, Some(o)) => o != Less,
            })
        }
        Node::And(a, b) => {
            Bool(matches!(eval(a, f)?, Bool(true)) && matches!(eval(b, f)?, Bool(true)))
        }
        Node::Or(a, b) => {
            Bool(matches!(eval(a, f)?, Bool(true)) || matches!(eval(b, f)?, Bool(true)))
        }
        Node::Not(a) => Bool(!matches!(eval(a, f)?, Bool(true))),
        Node::Cond(c, a, b) => {
            if matches!(eval(c, f)?, Bool(true)) {
                eval(a, f)?
            } else {
                eval(b, f)?
            }
        }
        Node::MinMax(is_min, a, b, _) => match (eval(a, f)?, eval(b, f)?) {
            (Int(x), Int(y)) => Int(if *is_min { x.min(y) } else { x.max(y) }),
            (Double(x), Double(y)) => Double(if *is_min { x.min(y) } else { x.max(y) }),
            _ => return Err(EvalError("min/max on mismatched types".into())),
        },
        Node::ToInt(a, _) => match eval(a, f)? {
            Int(x) => Int(x),
            Double(x) => {
                if x.is_finite() && x > -9.2e18 && x < 9.2e18 {
                    Int(x.trunc() as i64)
                } else {
                    return Err(EvalError(format!("int({x}) is out of range")));
                }
            }
            _ => return Err(EvalError("int() of a non-number".into())),
        },
        Node::ToDouble(a, _) => match eval(a, f)? {
            Int(x) => Double(x as f64),
            Double(x) => Double(x),
            _ => return Err(EvalError("double() of a non-number".into())),
        },
        Node::Size(a) => match eval(a, f)? {
            Str(s) => Int(s.chars().count() as i64),
            _ => return Err(EvalError("size() of a non-string".into())),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::ix;

    fn feats() -> Features {
        let mut ints = [0i64; ix::N_INT];
        ints[ix::ACTIVE_MONTHS] = 4;
        ints[ix::ACTION_BASE + 2 * 8] = 3; // swaps
        ints[ix::ACTION_BASE + 2 * 13] = 2; // trades
        ints[ix::STEP_BASE + 1] = 1; // greenlist
        Features {
            address: "a".into(),
            ints,
            funder: "0xabc".into(),
            sweep_target: String::new(),
        }
    }

    #[test]
    fn evaluates_the_issue_example() {
        let c = compile("active_months >= 3 && swaps + trades >= 5", Ty::Bool).unwrap();
        assert!(c.eval_bool(&feats()).unwrap());
        assert_eq!(c.features, vec!["active_months", "swaps", "trades"]);
        let c = compile("min(swaps, 2) * 10 + (step_greenlist ? 50 : 0)", Ty::Int).unwrap();
        assert_eq!(c.eval_int(&feats()).unwrap(), 70);
        let c = compile("funder == '0xabc' && size(sweep_target) == 0", Ty::Bool).unwrap();
        assert!(c.eval_bool(&feats()).unwrap());
        let c = compile("int(double(swaps) * 1.5)", Ty::Int).unwrap();
        assert_eq!(c.eval_int(&feats()).unwrap(), 4);
    }

    #[test]
    fn load_time_errors_name_the_problem_and_position() {
        let e = compile("active_month >= 3", Ty::Bool).unwrap_err();
        assert!(
            e.msg.contains("unknown feature `active_month`") && e.msg.contains("active_months"),
            "{e}"
        );
        assert_eq!(e.col, 1);
        let e = compile("swaps >= 3 && swaps + 'x' > 1", Ty::Bool).unwrap_err();
        assert!(e.msg.starts_with("type error"), "{e}");
        assert!(e.col > 10, "{e}");
        let e = compile("swaps >= ", Ty::Bool).unwrap_err();
        assert!(e.msg.starts_with("syntax error"), "{e}");
        let e = compile("swaps * 2", Ty::Bool).unwrap_err();
        assert!(e.msg.contains("must be bool"), "{e}");
        let e = compile("[1,2].exists(x, x > 1)", Ty::Bool).unwrap_err();
        assert!(e.msg.contains("not supported"), "{e}");
        let e = compile("step_swap < true", Ty::Bool).unwrap_err();
        assert!(e.msg.contains("not defined on bool"), "{e}");
    }

    #[test]
    fn overflow_is_an_error_not_a_wrong_number() {
        let c = compile("9223372036854775807 + swaps", Ty::Int).unwrap();
        assert!(c.eval_int(&feats()).is_err());
        let c = compile("swaps / (trades - 2)", Ty::Int).unwrap();
        assert!(c.eval_int(&feats()).is_err());
    }

    /// Differential test: our evaluator agrees with the `cel` interpreter.
    #[test]
    fn agrees_with_the_cel_interpreter() {
        let f = feats();
        let exprs = [
            "swaps + trades * 3 - active_months",
            "swaps % 2 == 1 || trades / 2 == 1",
            "!(swaps > trades) ? 1 : -1",
            "(swaps > trades ? swaps : trades) - active_months * 2",
            "step_greenlist && !step_swap",
            "active_months >= 3 && swaps + trades >= 5",
        ];
        for src in exprs {
            let ours = compile(
                src,
                if src.contains("==") || src.contains("&&") {
                    Ty::Bool
                } else {
                    Ty::Int
                },
            );
            let ours = ours.unwrap().eval(&f).unwrap();
            let prog = cel::Program::compile(src).unwrap();
            let mut ctx = cel::Context::default();
            for (i, d) in definitions().iter().enumerate() {
                match d.kind {
                    Kind::Int => ctx.add_variable_from_value(d.name.clone(), f.get_int(i)),
                    Kind::Bool => ctx.add_variable_from_value(d.name.clone(), f.get_int(i) != 0),
                    Kind::Str => {
                        ctx.add_variable_from_value(d.name.clone(), f.get_str(i).to_string())
                    }
                }
            }
            let theirs = prog.execute(&ctx).unwrap();
            let same = match (&ours, &theirs) {
                (Val::Int(a), cel::Value::Int(b)) => a == b,
                (Val::Bool(a), cel::Value::Bool(b)) => a == b,
                _ => false,
            };
            assert!(same, "{src}: ours {ours:?}, cel {theirs:?}");
        }
    }
}
